import { z } from 'zod';
import { NAME_PATTERN, NAME_RULE, TAG_PATTERN } from '../names';
import { shown } from './fields';
import { Verdict } from './common';

/** Version diffs: what changed between two versions of a checkpoint. */

/** a version, or a tag of the checkpoint (resolved to its version by the server; a version of that name wins) */
const VersionOrTag = (what: string) =>
  z
    .string({ error: `${what} is required: a version or a tag` })
    .refine((v) => NAME_PATTERN.test(v) || TAG_PATTERN.test(v), {
      error: (i) => `${what} must be a version (${NAME_RULE}) or a tag; got ${shown(String(i.input))}`,
    });

export const DiffQuery = z.object({
  from: VersionOrTag('from').describe('the older version, or a tag (best, latest-safe …)'),
  to: VersionOrTag('to').describe('the newer version, or a tag'),
});

const TensorBrief = z.object({
  name: z.string(),
  dtype: z.string(),
  shape: z.array(z.number().int()),
  numel: z.number().int(),
});

const ImportBrief = z.object({ module: z.string(), name: z.string(), class: z.string() });

const FindingBrief = z.object({ rule: z.string(), severity: z.string(), message: z.string() });

export const VersionDiff = z
  .object({
    name: z.string(),
    from: z.string().describe('the version compared from (a tag given as from is resolved to it)'),
    to: z.string().describe('the version compared to'),
    tags: z
      .object({ from: z.string().nullable(), to: z.string().nullable() })
      .describe('the tags given as from and to, null where a version was given'),
    complete: z
      .boolean()
      .describe('false when a tensor list was capped or a tensor has no checksum to compare'),
    incompleteBecause: z.array(z.string()),
    counts: z.object({
      added: z.number().int(),
      removed: z.number().int(),
      reshaped: z.number().int(),
      bytesChanged: z.number().int(),
      unchanged: z.number().int(),
      unknown: z.number().int(),
    }),
    tensors: z
      .object({
        added: z.array(TensorBrief),
        removed: z.array(TensorBrief),
        reshaped: z.array(z.object({ name: z.string(), from: TensorBrief, to: TensorBrief })),
        bytesChanged: z.array(z.string()).describe('same dtype and shape, another storage CRC-32 or size'),
        unknown: z.array(z.string()).describe('no storage checksum (not a zip)'),
      })
      .describe('each list holds at most 500 entries; counts are whole'),
    parameters: z.object({ from: z.number().int(), to: z.number().int(), delta: z.number().int() }),
    verdict: z.object({ from: Verdict, to: Verdict, changed: z.boolean() }),
    weightsOnly: z
      .array(z.object({ torch: z.string(), from: z.boolean(), to: z.boolean() }))
      .describe('torch versions whose weights_only outcome differs'),
    imports: z.object({ added: z.array(ImportBrief), removed: z.array(ImportBrief) }),
    findings: z.object({ added: z.array(FindingBrief), removed: z.array(FindingBrief) }),
    summary: z
      .array(z.string())
      .describe('what changed, most important first ("started importing posix.system")'),
  })
  .meta({ id: 'VersionDiff' });

export type VersionDiff = z.infer<typeof VersionDiff>;
