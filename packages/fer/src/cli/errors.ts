/** An error the CLI reports as a one-line message (no stack) with an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: string = 'usage',
    readonly exitCode: number = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
