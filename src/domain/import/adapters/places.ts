// Where each entry of a converted workspace file came from in the source file, so that an error
// the format or the import's plan finds (at `/groups/3/name` of the converted file) is reported
// at its place in the file the operator has (`/groups/0/subGroups/1/name`, `line 4, column 1`).
import { ValidationError } from '../../errors';

/** The source place of one converted entry, and of its fields (a field absent here: the entry's place). */
export interface Place {
  at: string;
  fields?: Record<string, string>;
}

export class Places {
  private readonly byPointer = new Map<string, Place>();

  /** Records that the converted entry at `pointer` (`/groups/3`) came from `place`. */
  set(pointer: string, place: Place): void {
    this.byPointer.set(pointer, place);
  }

  /** The source place of a converted file's pointer: its entry's place, and its field's when known. */
  of(pointer: string): string | null {
    const [, list, index, field] = pointer.split('/');
    const place = this.byPointer.get(`/${list}/${index}`);
    if (!place) return null;
    return field !== undefined && place.fields?.[field] !== undefined ? place.fields[field] : place.at;
  }

  /** A ValidationError at a pointer of the converted file, re-placed in the source file; anything else as it is. */
  relocate(error: unknown): unknown {
    if (!(error instanceof ValidationError)) return error;
    const pointer = error.field;
    const place = this.of(pointer);
    if (place === null) return error;
    const prefix = `${pointer}: `;
    const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return new ValidationError(place, `${place}: ${message}`, { pointer: place });
  }
}
