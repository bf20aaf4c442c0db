import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Personal data never reaches the logs. Code logs ids and counts only; these paths are the
 * safety net for anything that slips through (a request body, a signal, an error's context).
 */
const PERSONAL_FIELDS = [
  'bsn', 'burgerservicenummer', 'initials', 'prefix', 'surname', 'name', 'birthDate', 'gender',
  'person', 'address', 'postcode', 'houseNumber', 'houseLetter', 'houseNumberAddition', 'street', 'city',
  'contact', 'phone', 'email', 'text', 'note',
];
const REDACT_PATHS = [
  ...PERSONAL_FIELDS,
  ...PERSONAL_FIELDS.map((f) => `*.${f}`),
  ...PERSONAL_FIELDS.map((f) => `*.*.${f}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'vroegsein' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
