import { BadRequestException } from '@nestjs/common';
import { nameProblem } from '@brine/contracts';

/**
 * What arrives over HTTP is validated by each route's declaration in @brine/contracts. What remains here is for
 * names that reach services by other ways (the tag and version logic, internal calls).
 */
export { METRIC_NAME, NAME_PATTERN, RESERVED_VERSIONS, TAG_PATTERN } from '@brine/contracts';

export function checkName(what: 'name' | 'version', v: string): string {
  const problem = nameProblem(what, v);
  if (problem) throw new BadRequestException(problem);
  return v;
}
