import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateDeletions, formatBytes, topDirectories, type DeletionPlan } from '../src/engine/guard.js';
import type { DeletionLimits } from '../src/engine/types.js';

function plan(files: number, destFiles: number, sourceFiles: number, byDir: [string, number][] = []): DeletionPlan {
  return { files, bytes: files * 1000, destFiles, sourceFiles, byDir: new Map(byDir) };
}
const none: DeletionLimits = { allow: false };

test('evaluateDeletions: table of plans and limits', () => {
  const cases: { name: string; plan: DeletionPlan; limits: DeletionLimits; ok: boolean; mentions?: string[] }[] = [
    { name: 'nothing to delete', plan: plan(0, 10, 10), limits: none, ok: true },
    { name: 'nothing to delete, empty source', plan: plan(0, 10, 0), limits: none, ok: true },
    { name: 'empty source, empty destination', plan: plan(0, 0, 0), limits: none, ok: true },
    { name: 'empty source refuses', plan: plan(10, 10, 0), limits: none, ok: false, mentions: ['source has no files', 'mounted', 'even with --allow-deletions'] },
    { name: 'empty source refuses even with allow', plan: plan(10, 10, 0), limits: { allow: true }, ok: false, mentions: ['even with --allow-deletions'] },
    { name: 'empty source refuses even under limits', plan: plan(1, 1, 0), limits: { allow: false, maxFiles: 100 }, ok: false },
    { name: 'allow permits everything', plan: plan(900_000, 1_000_000, 1), limits: { allow: true }, ok: true },
    // Defaults: max(1000, 10 % of destination).
    { name: 'default: 1000 of a small tree is allowed', plan: plan(1000, 1500, 500), limits: none, ok: true },
    { name: 'default: 1001 of a small tree is refused', plan: plan(1001, 1500, 499), limits: none, ok: false, mentions: ['1,001 files', 'default limit of 1,000 files (1,000 files or 10 % of the destination, whichever is larger', '--allow-deletions'] },
    { name: 'default: 10 % of a big tree is allowed', plan: plan(20_000, 200_000, 180_000), limits: none, ok: true },
    { name: 'default: over 10 % of a big tree is refused', plan: plan(20_001, 200_000, 180_000), limits: none, ok: false, mentions: ['default limit of 20,000 files', '10 %'] },
    // Given limits replace the defaults; one alone applies alone; both: the larger applies (as the config gives them).
    { name: 'maxFiles under', plan: plan(5, 1000, 995), limits: { allow: false, maxFiles: 5 }, ok: true },
    { name: 'maxFiles over', plan: plan(6, 1000, 994), limits: { allow: false, maxFiles: 5 }, ok: false, mentions: ['limit of 5 files (--max-delete;'] },
    { name: 'maxFiles 0 refuses any deletion', plan: plan(1, 1000, 999), limits: { allow: false, maxFiles: 0 }, ok: false },
    { name: 'maxFiles alone ignores the share', plan: plan(900, 1000, 100), limits: { allow: false, maxFiles: 1000 }, ok: true },
    { name: 'maxPercent under', plan: plan(50, 1000, 950), limits: { allow: false, maxPercent: 5 }, ok: true },
    { name: 'maxPercent over', plan: plan(51, 1000, 949), limits: { allow: false, maxPercent: 5 }, ok: false, mentions: ['5.1 %', 'limit of 50 files (5 % of the destination, --max-delete-percent;'] },
    { name: 'maxPercent alone ignores the count', plan: plan(5000, 100_000, 95_000), limits: { allow: false, maxPercent: 5 }, ok: true },
    { name: 'maxPercent 0 refuses any deletion', plan: plan(1, 1000, 999), limits: { allow: false, maxPercent: 0 }, ok: false },
    { name: 'both: count over, share under: the larger (share) applies', plan: plan(11, 1000, 989), limits: { allow: false, maxFiles: 10, maxPercent: 50 }, ok: true },
    { name: 'both: share over, count under: the larger (count) applies', plan: plan(9, 10, 1), limits: { allow: false, maxFiles: 10, maxPercent: 50 }, ok: true },
    { name: 'both over', plan: plan(11, 12, 1), limits: { allow: false, maxFiles: 10, maxPercent: 50 }, ok: false, mentions: ['limit of 10 files (10 files or 50 % of the destination, whichever is larger;', '91.7 %'] },
    { name: 'config defaults given explicitly behave as the defaults', plan: plan(20_001, 200_000, 180_000), limits: { allow: false, maxFiles: 1000, maxPercent: 10 }, ok: false, mentions: ['limit of 20,000 files'] },
    { name: 'allow overrides explicit limits', plan: plan(11, 12, 1), limits: { allow: true, maxFiles: 1, maxPercent: 1 }, ok: true },
  ];
  for (const c of cases) {
    const d = evaluateDeletions(c.plan, c.limits);
    assert.equal(d.ok, c.ok, c.name);
    if (!d.ok) {
      assert.equal(d.files, c.plan.files, c.name);
      assert.equal(d.bytes, c.plan.bytes, c.name);
      for (const m of c.mentions ?? []) assert.ok(d.reason.includes(m), `${c.name}: "${m}" not in: ${d.reason}`);
      assert.ok(d.reason.includes('Nothing was deleted'), c.name);
    }
  }
});

test('a refusal names the top directories, most files first, and the counts', () => {
  const byDir: [string, number][] = [['photos/2022', 300], ['', 2], ['photos/2023', 800], ['docs', 300], ['a', 1], ['b', 1], ['c', 1]];
  const d = evaluateDeletions({ files: 1406, bytes: 3 * 1024 ** 3, destFiles: 2000, sourceFiles: 594, byDir: new Map(byDir) }, none);
  assert.equal(d.ok, false);
  if (d.ok) return;
  assert.deepEqual(d.topDirs, [
    { dir: 'photos/2023', files: 800 },
    { dir: 'docs', files: 300 },
    { dir: 'photos/2022', files: 300 },
    { dir: '', files: 2 },
    { dir: 'a', files: 1 },
  ]);
  assert.match(d.reason, /1,406 files \(3\.0 GiB\), 70\.3 % of the destination's 2,000 files/);
  assert.match(d.reason, /Most affected: photos\/2023 \(800\), docs \(300\), photos\/2022 \(300\), \. \(2\), a \(1\)\./);
});

test('the reason is one line (escaped names come in, nothing adds a newline)', () => {
  const d = evaluateDeletions(plan(5000, 5001, 1, [['x\\x0ay', 5000]]), none);
  assert.equal(d.ok, false);
  if (!d.ok) assert.ok(!d.reason.includes('\n'));
});

test('topDirectories drops zero counts and keeps n', () => {
  assert.deepEqual(topDirectories(new Map([['a', 0], ['b', 3]]), 5), [{ dir: 'b', files: 3 }]);
  assert.equal(topDirectories(new Map(Array.from({ length: 20 }, (_, i) => [`d${i}`, i + 1])), 5).length, 5);
});

test('formatBytes uses binary units', () => {
  assert.equal(formatBytes(0), '0 bytes');
  assert.equal(formatBytes(1023), '1023 bytes');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(5 * 1024 ** 4), '5.0 TiB');
});
