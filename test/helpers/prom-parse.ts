// A strict parser for the Prometheus text exposition format (version 0.0.4), as node_exporter's
// textfile collector reads it. Stricter than Prometheus where our files should be: no blank lines,
// HELP and TYPE before a family's samples and only once, a family's samples contiguous, no
// duplicate series, a final newline. Throws with the line number on any violation.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help: string | null;
  type: string | null;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_NAME = '[a-zA-Z_][a-zA-Z0-9_]*';
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const VALUE = '(?:[+-]?(?:\\d+\\.?\\d*(?:[eE][+-]?\\d+)?|\\.\\d+(?:[eE][+-]?\\d+)?)|NaN|[+-]Inf)';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL_NAME}=${LABEL_VALUE})(?:,${LABEL_NAME}=${LABEL_VALUE})*,?)?\\})? (${VALUE})(?: (-?\\d+))?$`);
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const LABEL_PAIR = new RegExp(`(${LABEL_NAME})=(${LABEL_VALUE})`, 'g');

function unescapeLabel(quoted: string): string {
  return quoted.slice(1, -1).replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseValue(text: string): number {
  if (text === 'NaN') return NaN;
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the file does not end with a newline (truncated?)');
  const families = new Map<string, Family>();
  const seriesSeen = new Set<string>();
  let current: Family | null = null;
  const lines = text.slice(0, -1).split('\n');
  const family = (name: string, lineNo: number): Family => {
    let f = families.get(name);
    if (!f) {
      f = { name, help: null, type: null, samples: [] };
      families.set(name, f);
    } else if (f !== current) {
      throw new Error(`line ${lineNo}: family ${name} continues after another family (must be contiguous)`);
    }
    current = f;
    return f;
  };
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    if (line === '') throw new Error(`line ${lineNo}: blank line`);
    let m: RegExpExecArray | null;
    if ((m = HELP.exec(line))) {
      const f = family(m[1]!, lineNo);
      if (f.help !== null) throw new Error(`line ${lineNo}: second HELP for ${f.name}`);
      if (f.samples.length > 0) throw new Error(`line ${lineNo}: HELP after samples of ${f.name}`);
      f.help = m[2]!;
    } else if ((m = TYPE.exec(line))) {
      const f = family(m[1]!, lineNo);
      if (f.type !== null) throw new Error(`line ${lineNo}: second TYPE for ${f.name}`);
      if (f.samples.length > 0) throw new Error(`line ${lineNo}: TYPE after samples of ${f.name}`);
      f.type = m[2]!;
    } else if (line.startsWith('#')) {
      throw new Error(`line ${lineNo}: comment that is neither HELP nor TYPE: ${line}`);
    } else if ((m = SAMPLE.exec(line))) {
      const name = m[1]!;
      const f = family(name, lineNo);
      const labels: Record<string, string> = {};
      for (const pair of (m[2] ?? '').matchAll(LABEL_PAIR)) {
        if (pair[1]! in labels) throw new Error(`line ${lineNo}: label ${pair[1]} twice`);
        labels[pair[1]!] = unescapeLabel(pair[2]!);
      }
      const key = `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
      if (seriesSeen.has(key)) throw new Error(`line ${lineNo}: duplicate series ${key}`);
      seriesSeen.add(key);
      f.samples.push({ name, labels, value: parseValue(m[3]!) });
    } else {
      throw new Error(`line ${lineNo}: not a valid sample line: ${line}`);
    }
  });
  for (const f of families.values()) {
    if (f.type === null) throw new Error(`family ${f.name} has no TYPE`);
    if (f.samples.length === 0) throw new Error(`family ${f.name} has no samples`);
  }
  return families;
}

/** The value of one series, or undefined. */
export function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const f = families.get(name);
  const match = f?.samples.find((s) => Object.keys(labels).length === Object.keys(s.labels).length && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return match?.value;
}
