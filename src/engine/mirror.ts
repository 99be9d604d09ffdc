// Placeholder while the engine is being written (replaced in the next commits).
import type { MirrorOptions, MirrorResult } from './types.js';

export async function mirror(_options: MirrorOptions): Promise<MirrorResult> {
  throw new Error('mirror engine not written yet');
}
