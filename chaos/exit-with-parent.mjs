// Preloaded (`node --import`) into every process the chaos supervisor starts: the supervisor holds the
// write end of this process's stdin, so stdin ending means the supervisor is gone (even by SIGKILL,
// which no handler sees). Then shut down as on SIGTERM rather than live on as an orphan.
process.stdin.on('end', () => process.kill(process.pid, 'SIGTERM'))
process.stdin.on('error', () => process.kill(process.pid, 'SIGTERM'))
process.stdin.resume()
// stdin must not keep an otherwise finished process alive
process.stdin.unref?.()
