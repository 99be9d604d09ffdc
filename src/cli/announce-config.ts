// The config that status / notify / install-units need. Unlike `backup`, these must also work on a
// machine without a config file (a fresh install: "never run"), so a missing *default* config means
// defaults; an explicit --config that cannot be read, or a bad config, is still an error.
import fs from 'node:fs';
import { loadConfig } from '../config/load.js';
import { defaultConfigPath } from '../config/schema.js';
import { monitorConfigSchema, notifyConfigSchema, type MonitorConfig, type NotifyConfig } from '../config/notify-schema.js';
import { resolveStateDir } from '../backup/state.js';

export interface AnnounceSettings {
  notify: NotifyConfig;
  monitor: MonitorConfig;
  stateDir: string;
  /** Configured disk names, in config order. */
  disks: string[];
  /** The file read, or null when none exists and defaults apply. */
  configFile: string | null;
}

export function loadAnnounceSettings(file: string | undefined, env: NodeJS.ProcessEnv = process.env): AnnounceSettings {
  if (file === undefined && !fs.existsSync(defaultConfigPath(env))) {
    return {
      notify: notifyConfigSchema.parse(undefined),
      monitor: monitorConfigSchema.parse(undefined),
      stateDir: resolveStateDir(undefined, env),
      disks: [],
      configFile: null,
    };
  }
  const config = loadConfig({ file, env });
  return { notify: config.notify, monitor: config.monitor, stateDir: config.stateDir, disks: config.disks.map((d) => d.name), configFile: config.file };
}
