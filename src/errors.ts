// The one exception type for a stop that must end the whole run before (or without) changing
// anything: missing source root, unmounted disk, guard refusal of a whole run, a bad config.
// Everything expected per file is a value, not an exception (DESIGN.md, style 3).
export type FatalKind = 'usage' | 'fatal' | 'refused' | 'busy';

export class FatalError extends Error {
  constructor(
    message: string,
    readonly kind: FatalKind = 'fatal',
  ) {
    super(message);
    this.name = 'FatalError';
  }
}
