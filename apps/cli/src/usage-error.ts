/** A mistake in how the command was called: exit code 2 with a message that says what to fix. */
export class UsageError extends Error {}

/** A command that cannot go on, with the exit status it ends with (see EXIT in exit.ts) */
export class CommandFailure extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}
