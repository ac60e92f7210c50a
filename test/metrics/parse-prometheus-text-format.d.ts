// The package ships no types: what it returns, per its README (a port of Prometheus' own Go text parser).
declare module 'parse-prometheus-text-format' {
  interface Sample {
    labels?: Record<string, string>
    value?: string
    /** histograms */
    buckets?: Record<string, string>
    count?: string
    sum?: string
  }
  interface Family {
    name: string
    help: string
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED'
    metrics: Sample[]
  }
  function parsePrometheusTextFormat(text: string): Family[]
  export default parsePrometheusTextFormat
}
