/** One event of a `text/event-stream`, as the SSE specification's parser yields it. */
export interface StreamEvent {
  type: string
  data: string
  /** the last event id in force when it was dispatched */
  id: string
}

/**
 * Parses a text/event-stream body (fetch streaming), per the specification's
 * rules: CR, LF or CRLF line ends, `:` comments, multi-line data, `id`
 * without NUL, `retry` hints. Yields events; `onRetry` gets the hints.
 */
export async function* readEventStream(
  body: ReadableStream<Uint8Array>,
  state: { lastEventId: string; onRetry?: (ms: number) => void }
): AsyncGenerator<StreamEvent> {
  let buffer = ''
  let type = ''
  let data: string[] = []
  let sawCR = false
  const decoder = new TextDecoder()
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true })
    let start = 0
    for (let i = 0; i < buffer.length; i++) {
      const char = buffer[i]
      if (char !== '\n' && char !== '\r') continue
      if (char === '\n' && sawCR && i === start) {
        // the LF of a CRLF whose CR ended the previous line
        sawCR = false
        start = i + 1
        continue
      }
      sawCR = char === '\r'
      const line = buffer.slice(start, i)
      start = i + 1
      if (line === '') {
        if (data.length > 0) yield { type: type || 'message', data: data.join('\n'), id: state.lastEventId }
        type = ''
        data = []
        continue
      }
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon === -1 ? line : line.slice(0, colon)
      let value = colon === -1 ? '' : line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
      if (field === 'event') type = value
      else if (field === 'data') data.push(value)
      else if (field === 'id' && !value.includes('\0')) state.lastEventId = value
      else if (field === 'retry' && /^\d+$/.test(value)) state.onRetry?.(Number(value))
    }
    buffer = buffer.slice(start)
  }
}
