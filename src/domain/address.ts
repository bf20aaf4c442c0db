/**
 * Dutch address normalisation. A household is matched by its normalised address:
 * postcode + house number + house letter + house number addition.
 */

const POSTCODE = /^([1-9][0-9]{3})\s*([A-Za-z]{2})$/;

/** Whether `input` is a postcode as it is stored ('1234AB'): four digits, the first not 0, two capitals. */
function isStoredPostcodeForm(input: string): boolean {
  if (input.length !== 6) return false;
  for (let i = 0; i < 6; i++) {
    const c = input.charCodeAt(i);
    const ok = i === 0 ? c >= 49 && c <= 57 : i < 4 ? c >= 48 && c <= 57 : c >= 65 && c <= 90;
    if (!ok) return false;
  }
  return true;
}

/** '1234 ab' → '1234AB'; null when it is not a Dutch postcode. */
export function normalisePostcode(input: string): string | null {
  // Most partners send postcodes as they are stored: those are taken as they are, without the
  // match below and the strings it makes (this runs for every signal received).
  if (isStoredPostcodeForm(input)) {
    const [first, second] = [input.charCodeAt(4), input.charCodeAt(5)];
    return first === 83 && (second === 65 || second === 68 || second === 83) ? null : input; // SA, SD, SS
  }
  const match = POSTCODE.exec(input.trim());
  if (!match) return null;
  const letters = match[2]!.toUpperCase();
  // SA, SD and SS are never issued as postcode letters.
  if (letters === 'SA' || letters === 'SD' || letters === 'SS') return null;
  return `${match[1]}${letters}`;
}

/** The 4-digit postcode area (PC4) of a normalised postcode. */
export function postcodeArea(postcode: string): string {
  return postcode.slice(0, 4);
}

export interface AddressParts {
  postcode: string;
  houseNumber: number;
  houseLetter?: string | null;
  houseNumberAddition?: string | null;
}

/** Upper-case, without spaces, dashes or dots: '-bis ' → 'BIS'. */
export function normaliseAddition(input: string | null | undefined): string {
  return (input ?? '').replace(/[\s.\-/]+/g, '').toUpperCase();
}

/**
 * The key under which all signals of one address meet. Two spellings of the same address
 * ('1234 ab', 12, 'a', '-2' and '1234AB', 12, 'A', '2') give the same key.
 */
export function addressKey(address: AddressParts): string {
  const postcode = normalisePostcode(address.postcode) ?? address.postcode.toUpperCase().replace(/\s+/g, '');
  return [postcode, String(address.houseNumber), normaliseAddition(address.houseLetter), normaliseAddition(address.houseNumberAddition)].join('|');
}
