// The notifications (`notify`) and monitoring (`monitor`) parts of the config file. config/schema.ts
// composes these under those two keys (strict objects, like the rest of the file: a misspelt key
// is an error); both default to "nothing configured" so a config without
// them is valid (state and metrics are still written, nothing is pushed).
//
// Secrets never live in the config itself: tokens are read from files (tokenFile), so the config
// can be printed and logged. Push-monitor URLs do carry a secret (the check's UUID or push token):
// they are never printed whole (see host/notify.ts redactUrl).
import { z } from 'zod';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
const seconds = z.number().nonnegative();

const gotifySchema = z.strictObject({
  /** Base URL of the Gotify server (the part before /message), e.g. https://gotify.lan. */
  url: httpUrl,
  /** File holding the application token (sent as X-Gotify-Key). Keep it mode 0600. */
  tokenFile: z.string().min(1),
  /** Gotify priorities 0..10: clients show 1-3 quietly, 4-7 with sound, 8-10 as high priority. */
  priorities: z
    .strictObject({
      success: z.number().int().min(0).max(10).default(2),
      failure: z.number().int().min(0).max(10).default(8),
    })
    .prefault({}),
  enabled: z.boolean().default(true),
});

const ntfySchema = z.strictObject({
  /** The topic URL messages are POSTed to, e.g. https://ntfy.sh/my-backups-x83hd. */
  url: httpUrl,
  /** Optional file holding an access token (sent as Authorization: Bearer). */
  tokenFile: z.string().min(1).optional(),
  /** ntfy priorities 1..5 (min, low, default, high, max/urgent). */
  priorities: z
    .strictObject({
      success: z.number().int().min(1).max(5).default(2),
      failure: z.number().int().min(1).max(5).default(5),
    })
    .prefault({}),
  enabled: z.boolean().default(true),
});

export const notifyConfigSchema = z
  .strictObject({
    gotify: gotifySchema.optional(),
    ntfy: ntfySchema.optional(),
    /** Push after a successful run too (failures are always pushed). */
    onSuccess: z.boolean().default(true),
    /**
     * The notification server is often a container the backup just stopped and restarted: wait up
     * to this long for its health endpoint before sending (then try anyway).
     */
    healthWaitSeconds: seconds.default(120),
    /** Extra attempts after a failed send (network error, 5xx, 429). 4xx answers are not retried. */
    retries: z.number().int().min(0).max(20).default(3),
    /** First pause between attempts and health polls; doubles each time, capped at 30 s. */
    backoffSeconds: seconds.default(2),
    /** Time limit of each single HTTP request. */
    timeoutSeconds: z.number().positive().default(15),
  })
  .prefault({});

export const monitorConfigSchema = z
  .strictObject({
    /**
     * Dead-man's switch, pinged at the start and end of every backup. uptime-kuma: the push URL
     * (…/api/push/TOKEN); healthchecks: the check's ping URL (…/UUID), /start and /fail appended.
     */
    push: z
      .strictObject({
        kind: z.enum(['uptime-kuma', 'healthchecks']),
        url: httpUrl,
      })
      .optional(),
    /**
     * Prometheus textfile-collector file (must end in .prom; written atomically). Default:
     * <stateDir>/home-lab.prom (stateDir is the top-level config key) — point it into
     * node_exporter's --collector.textfile.directory.
     */
    metricsFile: z
      .string()
      .min(1)
      .refine((p) => p.endsWith('.prom'), 'must end in .prom (node_exporter reads only *.prom files)')
      .optional(),
    /**
     * Per disk name: how many days may pass between two successful backups to it before `status`
     * and the metrics flag it (the monthly disk forgotten in the drawer). Disks without an entry
     * are never flagged.
     */
    rotationDays: z.record(z.string().min(1), z.number().positive()).default({}),
  })
  .prefault({});

export type NotifyConfig = z.output<typeof notifyConfigSchema>;
export type MonitorConfig = z.output<typeof monitorConfigSchema>;
export type GotifyConfig = NonNullable<NotifyConfig['gotify']>;
export type NtfyConfig = NonNullable<NotifyConfig['ntfy']>;
export type PushMonitorConfig = NonNullable<MonitorConfig['push']>;
