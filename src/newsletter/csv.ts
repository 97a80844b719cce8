// CSV is the format subscriber lists travel in: other services' exports come in, herald's own
// export goes out (and comes back in unchanged). Pure: text in, rows out.
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { HeraldError, type Problem } from '../errors.js';
import { cleanText, parseTopicList, type Status, type Subscriber } from './subscriber.js';
import { parseAddress, type Address } from './subscriptions.js';

export const EXPORT_COLUMNS = ['email', 'name', 'status', 'topics', 'created_at', 'updated_at'] as const;

// A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * A value a spreadsheet shows as text: a leading formula character gets a ' before it, and so does
 * a leading ' itself, so that the import of the file can take exactly one off again.
 */
export function spreadsheetSafe(value: string): string {
  return FORMULA_START.test(value) || value.startsWith("'") ? `'${value}` : value;
}

/** The reverse, for herald's own export coming back in. */
function fromSpreadsheet(value: string): string {
  return value.startsWith("'") && (FORMULA_START.test(value.slice(1)) || value.startsWith("''")) ? value.slice(1) : value;
}

export function exportHeader(extraColumns: string[]): string {
  return stringify([[...EXPORT_COLUMNS, ...extraColumns].map(spreadsheetSafe)]);
}

export function exportRows(subscribers: Subscriber[], extraColumns: string[]): string {
  return stringify(
    subscribers.map((subscriber) =>
      [subscriber.email, subscriber.name, subscriber.status, subscriber.topics.join(','), subscriber.createdAt, subscriber.updatedAt, ...extraColumns.map((column) => subscriber.extra[column] ?? '')].map(
        spreadsheetSafe,
      ),
    ),
  );
}

export interface ImportRow {
  line: number;
  address: Address;
  name: string;
  status: Status;
  topics: string[];
  /** When they subscribed, if the file says (herald's own export does). */
  createdAt?: string;
  extra: Record<string, string>;
}

// Header names as newsletter services export them, compared without case, spaces or punctuation.
const EMAIL_HEADERS = ['email', 'emailaddress', 'mail', 'subscriberemail'];
const NAME_HEADERS = ['name', 'fullname', 'subscribername', 'displayname'];
const FIRST_NAME_HEADERS = ['firstname', 'fname', 'givenname'];
const LAST_NAME_HEADERS = ['lastname', 'lname', 'surname', 'familyname'];
const STATUS_HEADERS = ['status', 'subscriptionstatus', 'memberstatus'];
const TOPICS_HEADERS = ['topics'];
const CREATED_HEADERS = ['createdat'];
// herald's own column that an import remakes.
const DROPPED_HEADERS = ['updatedat'];
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
  complained: 'complained',
  spam: 'complained',
};

const squash = (header: string) => header.toLowerCase().replace(/[^a-z]/g, '');

// Spreadsheets in many locales export with semicolons or tabs instead of commas: the header row
// tells which, as the separator it uses most.
function delimiterOf(headerLine: string): string {
  const count = (separator: string) => headerLine.split(separator).length;
  return [',', ';', '\t'].reduce((best, separator) => (count(separator) > count(best) ? separator : best));
}

export type ImportBatch = { rows: ImportRow[]; rejected: Problem[] };

/**
 * Reads a CSV export (another service's, or herald's own) in batches: who to import, and each
 * rejected row with its line and reason. `firstLine` is the file's first line, for its separator.
 * Throws a Problem-carrying error when the header has no email column.
 */
export async function* readImport(source: AsyncIterable<Buffer | string>, firstLine: string, file: string, batchSize = 5000): AsyncGenerator<ImportBatch> {
  const records = parse({ bom: true, skip_empty_lines: true, relax_column_count: true, relax_quotes: true, info: true, delimiter: delimiterOf(firstLine) });
  const feed = (async () => {
    try {
      for await (const chunk of source) if (!records.write(chunk)) await new Promise((resolve) => records.once('drain', resolve));
      records.end();
    } catch (error) {
      records.destroy(error as Error);
    }
  })();
  let columns: { email: number; name: number; first: number; last: number; status: number; topics: number; created: number; extra: [number, string][] } | undefined;
  const seen = new Map<string, number>();
  let batch: ImportBatch = { rows: [], rejected: [] };
  const rows = (async function* () {
    try {
      yield* records as AsyncIterable<{ record: string[]; info: { lines: number } }>;
    } catch (error) {
      const failure = error as Error & { lines?: number };
      throw new HeraldError({ code: 'E_SUBSCRIBER', file, line: failure.lines, message: `cannot read the file as CSV: ${failure.message}`, hint: 'save it as CSV (comma, semicolon or tab separated) and try again' });
    }
  })();
  for await (const { record, info } of rows) {
    const line = info.lines;
    if (!columns) {
      const names = record.map(squash);
      const at = (candidates: string[]) => names.findIndex((name) => candidates.includes(name));
      const known = [EMAIL_HEADERS, NAME_HEADERS, FIRST_NAME_HEADERS, LAST_NAME_HEADERS, STATUS_HEADERS, TOPICS_HEADERS, CREATED_HEADERS, DROPPED_HEADERS].flat();
      columns = {
        email: at(EMAIL_HEADERS),
        name: at(NAME_HEADERS),
        first: at(FIRST_NAME_HEADERS),
        last: at(LAST_NAME_HEADERS),
        status: at(STATUS_HEADERS),
        topics: at(TOPICS_HEADERS),
        created: at(CREATED_HEADERS),
        extra: record.flatMap((name, index): [number, string][] => (name.trim() && !known.includes(names[index]!) ? [[index, fromSpreadsheet(name.trim())]] : [])),
      };
      if (columns.email < 0) {
        yield { rows: [], rejected: [{ code: 'E_SUBSCRIBER', file, line: 1, message: 'no email column in the header row', hint: 'the first row must name a column "email" or "Email Address"' }] };
        records.destroy();
        return;
      }
      continue;
    }
    const cell = (index: number) => (index >= 0 ? fromSpreadsheet(record[index] ?? '') : '');
    const reject = (message: string, hint: string) => batch.rejected.push({ code: 'E_SUBSCRIBER', file, line, message, hint });
    const email = cell(columns.email).trim();
    const address = parseAddress(email);
    if (!email) reject('no email address', 'fill in the email column or delete the row');
    else if (!address) reject(`"${cleanText(email, 200)}" is not an email address`, 'fix the address or delete the row');
    else if (seen.has(address.key)) reject(`${address.email} is already on line ${seen.get(address.key)} of this file`, 'the first row is imported; delete the other');
    else {
      seen.set(address.key, line);
      const statusWord = squash(cell(columns.status));
      const status = statusWord ? STATUS_WORDS[statusWord] : 'active';
      if (!status) reject(`status "${cleanText(cell(columns.status), 100)}" is not one herald knows`, `use one of: ${Object.keys(STATUS_WORDS).join(', ')}`);
      else {
        const name = columns.name >= 0 ? cell(columns.name) : `${cell(columns.first)} ${cell(columns.last)}`;
        const extra: Record<string, string> = {};
        for (const [index, column] of columns.extra) if (record[index]) extra[column] = cleanText(cell(index), 2000);
        const created = Date.parse(cell(columns.created));
        batch.rows.push({
          line,
          address,
          name: cleanText(name, 200),
          status,
          topics: parseTopicList(cell(columns.topics)),
          ...(Number.isNaN(created) ? {} : { createdAt: new Date(created).toISOString() }),
          extra,
        });
      }
    }
    if (batch.rows.length + batch.rejected.length >= batchSize) {
      yield batch;
      batch = { rows: [], rejected: [] };
    }
  }
  await feed;
  if (!columns) return;
  if (batch.rows.length || batch.rejected.length) yield batch;
}
