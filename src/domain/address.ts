/**
 * Dutch address normalisation. A household is matched by its normalised address:
 * postcode + house number + house letter + house number addition.
 */

const POSTCODE = /^([1-9][0-9]{3})\s*([A-Za-z]{2})$/;

/** '1234 ab' → '1234AB'; null when it is not a Dutch postcode. */
export function normalisePostcode(input: string): string | null {
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
