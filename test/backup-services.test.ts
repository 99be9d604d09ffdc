// Pure parts of the nightly run: stop groups, the excludes of the source pass and of a volume mirror,
// status precedence, and the summary.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapePattern, excludesForVolume, locate, planServices, volumeExcludes } from '../src/backup/services.js';
import { OutcomeBuilder, worst } from '../src/backup/steps.js';
import { formatSummary } from '../src/backup/summary.js';
import type { ContainerInfo } from '../src/host/podman.js';

const sources = [
  { name: 'bare', path: '/home/a/bare' },
  { name: 'protected', path: '/home/a/protected' },
];
const dir = (p: string) => ({ path: p, exists: true, isDirectory: true });
const c = (name: string, unit: string | null, binds: ContainerInfo['rwBinds'], pod: string | null = null): ContainerInfo => ({ id: name, name, unit, pod, rwBinds: binds });

test('locate: a path inside a source, the source itself, and outside', () => {
  assert.deepEqual(locate('/home/a/protected/app/db', sources)?.rel, 'app/db');
  assert.deepEqual(locate('/home/a/bare', sources)?.rel, '');
  assert.equal(locate('/home/a/bare-not', sources), null);
  assert.equal(locate('/srv', sources), null);
});

test('planServices: units, pods, shared and nested volumes, and what is copied live', () => {
  const plan = planServices({
    containers: [
      c('immich-server', 'immich.service', [dir('/home/a/protected/immich/upload')], 'pod1'),
      c('immich-db', 'immich-db.service', [dir('/home/a/protected/immich/db')], 'pod1'),
      c('web', 'web.service', [dir('/home/a/bare/www')]),
      c('web-helper', 'helper.service', [dir('/home/a/bare/www/cache')]),
      c('gotify', 'gotify.service', [dir('/home/a/bare/gotify')]),
      c('adhoc', null, [dir('/home/a/bare/adhoc')]),
      c('outside', 'outside.service', [dir('/srv/data')]),
      c('wide', 'wide.service', [dir('/home/a')]),
      c('file', 'file.service', [{ path: '/home/a/bare/app.conf', exists: true, isDirectory: false }]),
      c('gone', 'gone.service', [{ path: '/home/a/bare/gone', exists: false, isDirectory: false }]),
    ],
    manual: [{ unit: 'nextcloud.service', volumes: ['/home/a/protected/nextcloud'] }, { unit: 'web.service', volumes: ['/home/a/bare/www/uploads'] }],
    neverStop: ['gotify.service'],
    sources,
  });
  assert.deepEqual(
    plan.groups.map((g) => ({ units: g.units, containers: g.containers, volumes: g.volumes.map((v) => `${v.source}:${v.rel}`) })),
    [
      { units: ['helper.service', 'web.service'], containers: ['web', 'web-helper'], volumes: ['bare:www'] },
      { units: ['immich-db.service', 'immich.service'], containers: ['immich-db', 'immich-server'], volumes: ['protected:immich/db', 'protected:immich/upload'] },
      { units: ['nextcloud.service'], containers: [], volumes: ['protected:nextcloud'] },
    ],
  );
  const notes = plan.notes.join('\n');
  assert.match(notes, /container gotify \(gotify.service\): \/home\/a\/bare\/gotify is copied with source bare while it runs \(services.neverStop\)/);
  assert.match(notes, /container adhoc: \/home\/a\/bare\/adhoc is copied with source bare while it runs \(no PODMAN_SYSTEMD_UNIT label/);
  assert.match(notes, /outside.service\): writable \/srv\/data is outside every source: not backed up by this run/);
  assert.match(notes, /wide.service\): writable \/home\/a contains source bare, protected/);
  assert.match(notes, /file.service\): \/home\/a\/bare\/app.conf is not a directory/);
  assert.match(notes, /gone.service\): writable \/home\/a\/bare\/gone does not exist/);
  for (const unit of ['outside', 'wide', 'file', 'gone']) assert.match(notes, new RegExp(`^${unit}.service: no writable directory inside a source: not stopped$`, 'm'));
});

test('planServices: a unit in both alwaysStop and neverStop is not stopped', () => {
  const plan = planServices({ containers: [], manual: [{ unit: 'x.service', volumes: ['/home/a/bare/x'] }], neverStop: ['x.service'], sources });
  assert.deepEqual(plan.groups, []);
  assert.match(plan.notes.join('\n'), /x.service is in both services.alwaysStop and services.neverStop/);
});

test('volumeExcludes: anchored, directories only, wildcards escaped, the whole-source volume left out', () => {
  const volumes = [
    { path: '/home/a/protected/app/data', source: 'protected', rel: 'app/data' },
    { path: '/home/a/protected/we*rd[1]', source: 'protected', rel: 'we*rd[1]' },
    { path: '/home/a/bare', source: 'bare', rel: '' },
  ];
  assert.deepEqual(volumeExcludes(volumes, 'protected'), ['/app/data/', '/we\\*rd\\[1\\]/']);
  assert.deepEqual(volumeExcludes(volumes, 'bare'), []);
  assert.equal(escapePattern('a\\b?'), 'a\\\\b\\?');
});

test('excludesForVolume: floating patterns kept, anchored ones re-rooted or dropped', () => {
  assert.deepEqual(excludesForVolume(['*.tmp', '/media/', '/app/data/cache/', '/app/data/', 'logs/'], 'app/data'), ['*.tmp', '/cache/', 'logs/']);
  assert.deepEqual(excludesForVolume(['/media/'], ''), ['/media/']);
});

test('status precedence and the summary', () => {
  assert.equal(worst('ok', 'partial'), 'partial');
  assert.equal(worst('refused', 'partial'), 'refused');
  assert.equal(worst('fatal', 'busy'), 'fatal');
  const b = new OutcomeBuilder(1_000, false);
  const s = b.step('source bare');
  b.addMirror(s, {
    filesCopied: 3, bytesCopied: 3000, filesUnchanged: 0, otherCreated: 1, filesDeleted: 1, bytesDeleted: 10, filesRehashed: 0,
    failed: [{ path: Buffer.from('bad\nname'), error: 'EIO (read)' }], deletionsSkipped: '1 path(s) failed, so 1 extra entry was not deleted', refused: false, refusal: null, dryRun: false, durationMs: 5,
  }, 'bare');
  const o = b.finish(3_500);
  assert.equal(o.status, 'partial');
  assert.deepEqual(o.steps[0]?.failures, [{ path: 'bare/bad\\x0aname', error: 'EIO (read)' }]);
  const text = formatSummary(o);
  assert.match(text, /^home-lab backup: PARTIAL in 2\.5 s/);
  assert.match(text, /source bare\s+partial\s+0\.0 s\s+copied 3 \(2\.9 KiB\), deleted 1 \(10 B\), verified 0/);
  assert.match(text, /FAILED bare\/bad\\x0aname: EIO \(read\)/);
  assert.match(text, /errors:\n {2}source bare: 1 file failed under bare \(first: bad\\x0aname: EIO \(read\)\)/);
});
