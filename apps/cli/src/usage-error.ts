/** A mistake in how the command was called: exit code 2 with a message that says what to fix. */
export class UsageError extends Error {}
