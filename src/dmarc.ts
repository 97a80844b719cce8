// DMARC's idea of "the same sender": shared by check (is the DKIM domain aligned with From?) and doctor.
import { getDomain } from 'tldts';

/** The organisational domain: mail.example.co.uk is example.co.uk. */
export function organisation(domain: string): string {
  const lower = domain.toLowerCase();
  return getDomain(lower) ?? lower;
}

/** DMARC's relaxed alignment: the two domains belong to one organisation (same registrable domain). */
export function aligned(one: string, other: string): boolean {
  return organisation(one) === organisation(other);
}
