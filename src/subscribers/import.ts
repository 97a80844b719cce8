import { parse } from 'csv-parse/sync';
import type { Problem } from '../errors.js';
import { validEmail, emailKey, type Status } from './model.js';

export interface ImportCandidate {
  line: number;
  email: string;
  name: string;
  status: Status;
}

// Header names as newsletter services export them, compared without case, spaces or punctuation.
const EMAIL_HEADERS = ['email', 'emailaddress', 'mail', 'subscriberemail'];
const NAME_HEADERS = ['name', 'fullname', 'subscribername', 'displayname'];
const FIRST_NAME_HEADERS = ['firstname', 'fname', 'givenname'];
const LAST_NAME_HEADERS = ['lastname', 'lname', 'surname', 'familyname'];
const STATUS_HEADERS = ['status', 'subscriptionstatus', 'memberstatus'];
const STATUS_WORDS: Record<string, Status> = {
  active: 'active',
  subscribed: 'active',
  confirmed: 'active',
  pending: 'pending',
  unconfirmed: 'pending',
  unsubscribed: 'unsubscribed',
  optedout: 'unsubscribed',
  cleaned: 'bounced',
  bounced: 'bounced',
};

const squash = (header: string) => header.toLowerCase().replace(/[^a-z]/g, '');

// Spreadsheets in many locales export with semicolons or tabs instead of commas: the header row
// tells which, as the separator it uses most.
function delimiterOf(text: string): string {
  const header = text.split(/\r?\n/, 1)[0] ?? '';
  const count = (separator: string) => header.split(separator).length;
  return [',', ';', '\t'].reduce((best, separator) => (count(separator) > count(best) ? separator : best));
}

/** Reads another service's CSV export: who to import, and each rejected row with its reason. */
export function parseImport(text: string, file: string): { candidates: ImportCandidate[]; rejected: Problem[] } {
  const rows = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true, info: true, delimiter: delimiterOf(text) }) as unknown as { record: string[]; info: { lines: number } }[];
  const [header, ...records] = rows;
  const names = (header?.record ?? []).map(squash);
  const column = (candidates: string[]) => names.findIndex((name) => candidates.includes(name));
  const emailAt = column(EMAIL_HEADERS);
  if (emailAt < 0) {
    return {
      candidates: [],
      rejected: [{ code: 'E_SUBSCRIBER', file, line: 1, message: 'no email column in the header row', hint: 'the first row must name a column "email" or "Email Address"' }],
    };
  }
  const nameAt = column(NAME_HEADERS);
  const firstAt = column(FIRST_NAME_HEADERS);
  const lastAt = column(LAST_NAME_HEADERS);
  const statusAt = column(STATUS_HEADERS);
  const candidates: ImportCandidate[] = [];
  const rejected: Problem[] = [];
  const seen = new Map<string, number>();
  for (const { record, info } of records) {
    const line = info.lines;
    const reject = (message: string, hint: string) => rejected.push({ code: 'E_SUBSCRIBER', file, line, message, hint });
    const email = (record[emailAt] ?? '').trim();
    if (!email) {
      reject('no email address', 'fill in the email column or delete the row');
      continue;
    }
    if (!validEmail(email)) {
      reject(`"${email}" is not an email address`, 'fix the address or delete the row');
      continue;
    }
    const earlier = seen.get(emailKey(email));
    if (earlier) {
      reject(`${email} is already on line ${earlier} of this file`, 'the first row is imported; delete the other');
      continue;
    }
    seen.set(emailKey(email), line);
    const statusWord = statusAt >= 0 ? squash(record[statusAt] ?? '') : '';
    const status = statusWord ? STATUS_WORDS[statusWord] : 'active';
    if (!status) {
      reject(`status "${record[statusAt]}" is not one herald knows`, `use one of: ${Object.keys(STATUS_WORDS).join(', ')}`);
      continue;
    }
    const name = nameAt >= 0 ? (record[nameAt] ?? '') : [record[firstAt] ?? '', record[lastAt] ?? ''].join(' ');
    candidates.push({ line, email, name: name.trim(), status });
  }
  return { candidates, rejected };
}
