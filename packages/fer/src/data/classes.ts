// Which classes an import keeps and in what label order. FER2013 numbers its emotions
// 0..6 in this order; fer4's order (happy, sad, surprise, neutral) is the same order with
// angry, disgust and fear left out, so ordering any class set by FER2013 agrees with both.
import { DataError } from './errors.ts';
import { classListProblem } from './format.ts';

export const FER2013_CLASSES: readonly string[] = Object.freeze([
  'angry',
  'disgust',
  'fear',
  'happy',
  'sad',
  'surprise',
  'neutral',
]);

/**
 * What an importer keeps: undefined = the four fer4 classes (anything else is an error for
 * folders, dropped for the CSV), 'all' = every class the source has, or an explicit list
 * whose order becomes the label order.
 */
export type ClassSelection = undefined | 'all' | readonly string[];

/** Parses a `--classes` value: 'all' or a comma-separated list such as 'happy,sad'. */
export function parseClassSelection(text: string | undefined): ClassSelection {
  if (text === undefined) return undefined;
  if (text.trim().toLowerCase() === 'all') return 'all';
  const names = text
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '');
  const problem = classListProblem(names);
  if (problem) {
    throw new DataError(
      'E_DATA_CLASSES',
      `--classes '${text}' is not usable: ${problem}; give 'all' or e.g. 'happy,sad'`,
    );
  }
  return Object.freeze(names);
}

/** FER2013 order for the classes it knows, then the rest alphabetically. */
export function canonicalOrder(names: Iterable<string>): string[] {
  const rank = (c: string) => {
    const i = FER2013_CLASSES.indexOf(c);
    return i < 0 ? FER2013_CLASSES.length : i;
  };
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}
