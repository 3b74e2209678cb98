// A flat CSV of `group path, user email` (README "Import and export"), converted to a
// kauth-workspace file: each path's chain of groups, each email a user, each line a membership.
// Records follow RFC 4180 (quoted fields with "" for a quote, line breaks inside quotes, CRLF or
// LF); every error names the line and column of the source file.
import { ValidationError } from '../../errors';
import { MAX_GROUP_NAME } from '../../groups';
import { normaliseEmail } from '../../validate';
import { FORMAT, FORMAT_VERSION, type FileGroup, type FileMembership, type FileUser } from '../format';
import { Places } from './places';

/** One record: its fields, the line it starts on and the column each field starts at. */
interface CsvRecord {
  line: number;
  fields: string[];
  columns: number[];
  /** A line with nothing on it (not even a quoted empty field). */
  blank: boolean;
}

function csvError(line: number, column: number | null, message: string): ValidationError {
  const place = column === null ? `line ${line}` : `line ${line}, column ${column}`;
  return new ValidationError(place, `${place}: ${message}`, { line, ...(column === null ? {} : { column }) });
}

/** Splits RFC 4180 text into records; a quote left open or text after a closing quote is an error at its place. */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.startsWith('\uFEFF') ? 1 : 0;
  let line = 1;
  let column = 1;
  const advance = (n = 1) => {
    for (let k = 0; k < n; k++) {
      if (text[i] === '\n') {
        line++;
        column = 1;
      } else column++;
      i++;
    }
  };
  while (i < text.length) {
    const record: CsvRecord = { line, fields: [], columns: [], blank: true };
    for (;;) {
      record.columns.push(column);
      let field = '';
      if (text[i] === '"') {
        record.blank = false;
        const opened = { line, column };
        advance();
        for (;;) {
          if (i >= text.length) throw csvError(opened.line, opened.column, 'the quoted field is never closed');
          if (text[i] === '"' && text[i + 1] === '"') {
            field += '"';
            advance(2);
          } else if (text[i] === '"') {
            advance();
            break;
          } else {
            field += text[i];
            advance();
          }
        }
        if (i < text.length && !/[,\r\n]/.test(text[i])) throw csvError(line, column, 'only a comma or the end of the line may follow a closing quote');
      } else {
        while (i < text.length && !/[,\r\n]/.test(text[i])) {
          if (text[i] === '"') throw csvError(line, column, 'a quote inside an unquoted field (quote the whole field, and double the quote)');
          field += text[i];
          advance();
        }
        if (field.trim() !== '') record.blank = false;
        field = field.trim();
      }
      record.fields.push(field);
      if (text[i] === ',') {
        record.blank = false;
        advance();
        continue;
      }
      if (text[i] === '\r') advance();
      if (text[i] === '\n') advance();
      break;
    }
    if (!record.blank) records.push(record);
  }
  return records;
}

const HEADER = ['grouppath', 'useremail'];
const isHeader = (record: CsvRecord) => record.fields.map((f) => f.toLowerCase().replace(/[\s_-]/g, '')).join() === HEADER.join();

/** The names of a path's groups, outermost first: `Engineering/Platform`, a leading or trailing `/` allowed. */
function pathNames(path: string, line: number, column: number): string[] {
  const names = path.replace(/^\/|\/$/g, '').split('/').map((name) => name.trim());
  if (path.trim() === '' || names.some((name) => name === '')) throw csvError(line, column, `the group path ${JSON.stringify(path)} has an empty group name`);
  const long = names.find((name) => [...name].length > MAX_GROUP_NAME);
  if (long) throw csvError(line, column, `a group name must be at most ${MAX_GROUP_NAME} characters`);
  return names;
}

/**
 * Converts the CSV to a kauth-workspace document. A group's externalId is `csv:` and its path in
 * lower case (so one path in any case is one group, and a re-import finds it); its name is the
 * spelling first met. A user's externalId is `email:` and the lower-cased email, their userName the email.
 */
export function convertCsv(text: string): { document: unknown; places: Places } {
  const records = parseCsv(text);
  const places = new Places();
  const groups: FileGroup[] = [];
  const users: FileUser[] = [];
  const memberships: FileMembership[] = [];
  const groupIds = new Set<string>();
  const userIds = new Set<string>();
  const pairs = new Set<string>();
  records.forEach((record, index) => {
    if (index === 0 && isHeader(record)) return;
    const { line, fields, columns } = record;
    if (fields.length !== 2) throw csvError(line, null, `expected 2 fields (group path, user email), found ${fields.length}`);
    const names = pathNames(fields[0], line, columns[0]);
    let parent = '';
    for (const [depth, name] of names.entries()) {
      const externalId = `csv:${names.slice(0, depth + 1).join('/').toLowerCase()}`;
      if (!groupIds.has(externalId)) {
        groupIds.add(externalId);
        places.set(`/groups/${groups.length}`, { at: `line ${line}, column ${columns[0]}` });
        groups.push({ externalId, name, description: null, parent: parent || null });
      }
      parent = externalId;
    }
    let email: string;
    try {
      email = normaliseEmail(fields[1]);
    } catch {
      throw csvError(line, columns[1], `${JSON.stringify(fields[1])} is not a valid email address`);
    }
    const user = `email:${email}`;
    if (!userIds.has(user)) {
      userIds.add(user);
      places.set(`/users/${users.length}`, { at: `line ${line}, column ${columns[1]}` });
      users.push({ externalId: user, userName: email, email, name: null, givenName: null, familyName: null, active: true });
    }
    const pair = `${parent}\n${user}`;
    if (!pairs.has(pair)) {
      pairs.add(pair);
      places.set(`/memberships/${memberships.length}`, { at: `line ${line}` });
      memberships.push({ group: parent, user });
    }
  });
  return { document: { format: FORMAT, version: FORMAT_VERSION, groups, users, roles: [], memberships, roleAssignments: [] }, places };
}
