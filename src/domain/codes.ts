/**
 * The national code lists of DDAS v1.2 (../shared/ddas/v1.2/json_schema_Uitwisselmodel.json).
 * The API speaks the English snake_case codes on the left; the DDAS export writes the Dutch
 * values on the right. Each map is 1:1, and a unit test checks it against the schema's enums.
 */

export const PARTNER_TYPES = {
  energy: 'Energie',
  rent: 'Huur',
  mortgage: 'Hypotheek',
  health_insurance: 'Zorg',
  health_insurance_cak: 'CAK Zorgverzekeringen',
  water: 'Water',
  student_finance: 'DUO',
  tax: 'Belastingdienst',
  cak_own_contribution: 'CAK Eigen bijdrage',
  allowances: 'Dienst Toeslagen',
  other: 'Overige',
} as const;

export const SIGNAL_STATUSES = {
  not_yet_picked_up: 'Nog niet opgepakt',
  picked_up: 'Opgepakt',
  already_known_debt_help: 'Inwoner al bekend bij schuldhulpverlening',
  deceased: 'Inwoner is overleden',
  not_resident: 'Persoon is geen inwoner (meer) in de gemeente',
  not_picked_up_repeat_signal: 'Niet opgepakt: herhaalde melding',
  not_picked_up_unjustified_signal: 'Niet opgepakt: onterecht signaal',
  not_picked_up_other_reason: 'Niet opgepakt: andere reden',
} as const;

export const TASK_RESULTS = {
  advice_or_quick_fix: '(Budget)advies en/of quick fix',
  no_contact_possible: 'Definitief geen contact kunnen krijgen',
  no_response_after_contact: 'Geen reactie na eerder contact',
  already_known_debt_help: 'Inwoner al bekend bij schuldhulpverlening',
  other_trajectory_running: 'Inwoner heeft al een ander lopend traject',
  paid_or_arrangement_made: 'Inwoner heeft zelf al betaald/betalingsregeling getroffen',
  no_help_needed: 'Inwoner regelt het zelf/hoeft geen hulp vanuit vroegsignalering',
  deceased: 'Inwoner is overleden',
  not_picked_up_repeat_signal: 'Niet opgepakt: herhaalde melding',
  not_picked_up_unjustified_signal: 'Niet opgepakt: onterecht signaal',
  not_picked_up_other_reason: 'Niet opgepakt: andere reden',
  not_resident: 'Persoon is geen inwoner (meer) in de gemeente',
  follow_up_or_referral: 'Vervolghulp en/of verwijzing',
  follow_up_or_referral_financial: 'Vervolghulp en/of verwijzing financieel',
  follow_up_or_referral_non_financial: 'Vervolghulp en/of verwijzing niet financieel',
  referral_without_resident: 'Verwijzing zonder tussenkomst inwoner',
} as const;

export const CONTACT_CHANNELS = {
  letter: 'Brief',
  phone: 'Telefoon',
  home_visit: 'Huisbezoek',
  card: 'Kaartje',
  email: 'Mail',
  sms_whatsapp: 'SMS/Whatsapp',
  appointment_on_location: 'Afspraak op locatie',
  administrative: 'Administratief',
  unknown: 'Onbekend',
  other: 'Overige',
} as const;

export const DAY_PARTS = {
  morning: 'Ochtend',
  afternoon: 'Middag',
  evening: 'Avond',
} as const;

export const GENDERS = {
  male: 'Man',
  female: 'Vrouw',
  unknown: 'Onbekend',
  empty: 'Leeg',
} as const;

export type PartnerType = keyof typeof PARTNER_TYPES;
export type SignalStatus = keyof typeof SIGNAL_STATUSES;
export type TaskResult = keyof typeof TASK_RESULTS;
export type ContactChannel = keyof typeof CONTACT_CHANNELS;
export type DayPart = keyof typeof DAY_PARTS;
export type Gender = keyof typeof GENDERS;

function keysOf<T extends object>(map: T): [keyof T & string, ...(keyof T & string)[]] {
  return Object.keys(map) as [keyof T & string, ...(keyof T & string)[]];
}

export const PARTNER_TYPE_CODES = keysOf(PARTNER_TYPES);
export const SIGNAL_STATUS_CODES = keysOf(SIGNAL_STATUSES);
export const TASK_RESULT_CODES = keysOf(TASK_RESULTS);
export const CONTACT_CHANNEL_CODES = keysOf(CONTACT_CHANNELS);
export const DAY_PART_CODES = keysOf(DAY_PARTS);
export const GENDER_CODES = keysOf(GENDERS);

/**
 * The closed-task result that goes with a signal status set by a `suppress` rule or at intake,
 * so that the DDAS export finds a case with a matching result for every suppressed household.
 */
export const RESULT_FOR_SUPPRESSED_STATUS: Partial<Record<SignalStatus, TaskResult>> = {
  already_known_debt_help: 'already_known_debt_help',
  deceased: 'deceased',
  not_resident: 'not_resident',
  not_picked_up_repeat_signal: 'not_picked_up_repeat_signal',
  not_picked_up_unjustified_signal: 'not_picked_up_unjustified_signal',
  not_picked_up_other_reason: 'not_picked_up_other_reason',
};
