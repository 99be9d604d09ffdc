// Placeholder: the notifications/monitoring part of the config schema (issue 5 fills it in).
// config/schema.ts composes these under the keys `notify` and `monitor`.
import { z } from 'zod';

export const notifyConfigSchema = z.object({}).default({});
export const monitorConfigSchema = z.object({}).default({});
