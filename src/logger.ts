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
  // The same data as database rows (snake_case) and in the DDAS delivery (Dutch).
  'birth_date', 'house_number', 'house_letter', 'house_number_addition', 'address_key', 'addressKey',
  'huisnummer', 'huisletter', 'huisnummertoevoeging', 'client',
];
// A database error describes the row or value it failed on: PostgreSQL's `detail` ("Failing row
// contains (…)", "Key (…)=(…)"), `where` (COPY line and column value, JSON context) and `hint`.
const ERROR_KEYS = ['err', 'error', 'cause', 'err.cause', 'error.cause'];
const ERROR_FIELDS = ['detail', 'where', 'hint', 'parameters', 'query'];
const REDACT_PATHS = [
  ...PERSONAL_FIELDS,
  ...PERSONAL_FIELDS.map((f) => `*.${f}`),
  ...PERSONAL_FIELDS.map((f) => `*.*.${f}`),
  ...ERROR_KEYS.flatMap((key) => ERROR_FIELDS.map((f) => `${key}.${f}`)),
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
