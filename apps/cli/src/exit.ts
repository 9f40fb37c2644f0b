import { ApiError } from '@brine/contracts';
import { red } from './format';

/**
 * The exit statuses of every command that talks to a registry (push, pull, tag, ls, card, diff, retention,
 * tokens), documented in the usage and the README:
 */
export const EXIT = {
  /** done (push: stored, and safe) */
  ok: 0,
  /** not safe: a pushed version's verdict (or none in time), a download or tag refused without
   * --acknowledge-risk, a download that did not verify */
  notSafe: 1,
  /** a usage error: a wrong flag or argument, a file that does not exist */
  usage: 2,
  /** the token is missing, wrong, revoked or lacks the scope */
  auth: 3,
  /** the registry refused the request: no such checkpoint, version or tag, bad input, a conflict */
  refused: 4,
  /** the registry cannot be reached, or is unavailable (still 503 after the retries Retry-After asks for) */
  unavailable: 5,
} as const;

export const EXIT_USAGE = `Exit status:
  0  done (push: stored, and safe)
  1  not safe: push stored a version whose verdict is not safe (or got none in time); pull or tag refused a
     version that is not known to be safe (pass --acknowledge-risk); a download did not verify
  2  a usage error: a wrong flag or argument, a file that does not exist
  3  the token is missing, wrong, revoked or lacks the scope
  4  the registry refused the request: no such checkpoint, version or tag, bad input, a conflict
  5  the registry cannot be reached or is unavailable`;

/** what the registry said, with the HTTP names of things replaced by the CLI flags that set them */
export function cliHints(message: string): string {
  return message
    .replace(/add \?acknowledgeRisk=true/g, 'pass --acknowledge-risk')
    .replace(/needs "acknowledgeRisk": true/g, 'needs --acknowledge-risk')
    .replace(/\?acknowledgeRisk=true|"acknowledgeRisk"|acknowledgeRisk/g, '--acknowledge-risk')
    .replace(/x-brine-git-commit/g, '--git-commit')
    .replace(/x-brine-parent/g, '--parent')
    .replace(/x-brine-run-url/g, '--run-url')
    .replace(/x-brine-dataset/g, '--dataset')
    .replace(/x-brine-metadata/g, '--metadata')
    .replace(/x-brine-metrics/g, '--metric');
}

/** the exit status for a request the registry (or the network) refused */
export function exitFor(status: number, message = ''): number {
  // a download or tag of a version that is not safe is refused with 403 and says so
  if (status === 403 && /not known to be safe/.test(message)) return EXIT.notSafe;
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 0 || status >= 500) return EXIT.unavailable;
  return EXIT.refused;
}

/** prints why a request failed (prefix: what was being done) and answers the exit status */
export function failed(e: unknown, prefix = ''): number {
  if (!(e instanceof ApiError)) throw e;
  console.error(red(`${prefix}${cliHints(e.message)}`));
  return exitFor(e.status, e.message);
}
