/**
 * An error whose message is already the sentence to show the person who ran
 * the command (what is wrong and what to do): entry points print it as it is,
 * with no stack and no guessing.
 */
export class UserFacingError extends Error {
  override readonly name: string = 'UserFacingError';
}
