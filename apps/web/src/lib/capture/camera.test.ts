import { describe, expect, test } from 'vitest';
import { describeCameraError } from './camera.ts';

/** What browsers throw: DOMExceptions with a name. */
function domError(name: string, message = ''): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

describe('describeCameraError', () => {
  test('a blocked permission says how to allow it', () => {
    const e = describeCameraError(domError('NotAllowedError', 'Permission denied'));
    expect(e.problem).toBe('denied');
    expect(e.message).toMatch(/blocked.*Allow the camera/);
  });

  test('no camera (Chromium NotFoundError, Firefox OverconstrainedError for a gone device)', () => {
    expect(describeCameraError(domError('NotFoundError')).problem).toBe('not-found');
    expect(describeCameraError(domError('OverconstrainedError')).message).toMatch(/No camera was found/);
  });

  test('a camera held by another program', () => {
    const e = describeCameraError(domError('NotReadableError', 'Could not start video source'));
    expect(e.problem).toBe('busy');
    expect(e.message).toMatch(/another application.*Could not start video source/);
  });

  test('anything else keeps its own message', () => {
    expect(describeCameraError(domError('TypeError', 'bad constraints')).message).toMatch(/bad constraints/);
    expect(describeCameraError('weird').message).toMatch(/weird/);
  });
});
