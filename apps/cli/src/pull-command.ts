import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { isTorchVersion, TORCH_VERSIONS, type ScanReport } from '@brine/scanner/report';
import { ENDPOINTS } from '@brine/contracts';
import { ApiError, call, parseRef, remote } from './client';
import { dim, ProgressBar, recipeLines, red, yellow } from './format';
import { UsageError } from './usage-error';
import { EXIT, EXIT_USAGE, failed } from './exit';
import { parseCommand, REMOTE_OPTIONS } from './arguments';

export const PULL_USAGE = `usage: brine pull NAME[:VERSION|:TAG] [-o FILE] [--format original|safetensors] [--torch VERSION] [--acknowledge-risk] [--url URL] [--token TOKEN]

Downloads a version and verifies its SHA-256; the file appears only when it matches. Without a version or tag it
takes "latest-safe", the newest version whose verdict is safe, and says which version that was. Then it says which
torch versions load the file with weights_only=True, and prints the code that loads it safely.
  --format safetensors  the version's safetensors twin (safe state dicts and training checkpoints get one):
                        loading it unpickles nothing
  --torch VERSION       the torch whose load recipe to print: ${TORCH_VERSIONS.join(', ')} (default 2.14)
  --tag                 read the part after ':' as a tag even if a version has that name
  --acknowledge-risk    download a version whose verdict is not safe

${EXIT_USAGE}`;

export async function pullCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    argv,
    {
      output: { type: 'string', short: 'o' },
      tag: { type: 'boolean', default: false },
      'acknowledge-risk': { type: 'boolean', default: false },
      torch: { type: 'string', default: '2.14' },
      format: { type: 'string', default: 'original' },
      ...REMOTE_OPTIONS,
    },
    PULL_USAGE,
  );
  if (parsed === null) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`pull needs NAME[:VERSION|:TAG]\n\n${PULL_USAGE}`);
  const torch = values.torch ?? '2.14';
  if (!isTorchVersion(torch))
    throw new UsageError(`--torch must be one of ${TORCH_VERSIONS.join(', ')}, not "${torch}"`);
  const format = values.format ?? 'original';
  if (format !== 'original' && format !== 'safetensors')
    throw new UsageError(`--format must be original or safetensors, not "${format}"`);
  const r = remote(values);
  const { name, ref } = parseRef(positionals[0]);
  const query = {
    acknowledgeRisk: values['acknowledge-risk'] || undefined,
    format: format === 'safetensors' ? format : undefined,
  } as const;
  const byVersion = (version: string) => call(r, ENDPOINTS.file, { params: { name, version }, query });
  const byTag = (tag: string) => call(r, ENDPOINTS.tagFile, { params: { name, tag }, query });
  let res: Response;
  try {
    if (ref === null) res = await byTag('latest-safe');
    else if (values.tag) res = await byTag(ref);
    else {
      // a version first, then a tag of that name
      res = await byVersion(ref).catch((e: unknown) => {
        if (!(e instanceof ApiError) || e.status !== 404) throw e;
        // no such version, or nothing to serve for it: a tag of that name, else the version's own answer
        return byTag(ref).catch((t: unknown) => {
          throw t instanceof ApiError && t.status === 404 ? e : t;
        });
      });
    }
  } catch (e) {
    return failed(e, e instanceof ApiError && e.status !== 0 ? 'download refused: ' : '');
  }
  if (!res.body) {
    console.error(red('download refused: the registry answered without the file'));
    return EXIT.unavailable;
  }
  const expected = res.headers.get('x-checksum-sha256');
  const size = Number(res.headers.get('content-length') ?? 0);
  const disposition = /filename\*=UTF-8''([^;]+)/.exec(res.headers.get('content-disposition') ?? '');
  const out = values.output ?? (disposition ? decodeURIComponent(disposition[1]) : `${name}.pt`);
  const partial = `${out}.part`;
  const hash = createHash('sha256');
  const bar = new ProgressBar(`downloading ${out}`, size);
  let got = 0;
  const file = createWriteStream(partial);
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      got += chunk.length;
      bar.update(got);
      if (!file.write(chunk)) await new Promise<void>((res2) => file.once('drain', () => res2()));
    }
    await new Promise<void>((res2, rej) => file.end((e?: Error | null) => (e ? rej(e) : res2())));
  } catch (e) {
    file.destroy();
    await rm(partial, { force: true });
    bar.done();
    console.error(red(`download interrupted: ${(e as Error).message}`));
    return EXIT.unavailable;
  }
  bar.done();
  const actual = hash.digest('hex');
  if (expected && actual !== expected) {
    await rm(partial, { force: true });
    console.error(red(`SHA-256 mismatch: expected ${expected}, got ${actual}; nothing was written`));
    return EXIT.notSafe;
  }
  await rename(partial, out);
  const taken = decodeURIComponent(res.headers.get('x-brine-version') ?? '?');
  console.log(
    `${out}  ${name}:${taken}${ref === null ? ' (latest-safe)' : ''}  ${got} bytes  sha256 ${actual} (verified)  verdict ${res.headers.get('x-brine-verdict') ?? '?'}`,
  );
  if (format === 'safetensors') {
    for (const line of safetensorsRecipe(out)) console.log(line);
    return 0;
  }
  let report: ScanReport;
  try {
    // the contract declares the report as a JSON object; its shape is the scanner's ScanReport
    report = (await call(r, ENDPOINTS.report, { params: { name, version: taken } })) as unknown as ScanReport;
  } catch (e) {
    console.error(yellow(`no load recipe: the scan report could not be read (${(e as Error).message})`));
    return 0;
  }
  const loads = TORCH_VERSIONS.filter((v) => report.weightsOnly.byVersion[v].loads);
  const refused = TORCH_VERSIONS.filter((v) => !report.weightsOnly.byVersion[v].loads);
  console.log(
    `  ${dim('torch.load(weights_only=True):')} ${loads.length ? `loads on torch ${loads.join(', ')}` : 'refused by every torch Brine models'}${loads.length && refused.length ? `; refused on ${refused.join(', ')}` : ''}`,
  );
  const recipe = report.howToLoad[torch];
  const uploaded = disposition ? decodeURIComponent(disposition[1]) : null;
  for (const line of recipeLines(torch, recipe, {
    from: [uploaded ?? '', 'model.pt'].filter(Boolean),
    to: out,
  }))
    console.log(line);
  return 0;
}

/** how to load a safetensors twin: Hugging Face's load_model restores the tied weights its metadata records */
function safetensorsRecipe(file: string): string[] {
  return [
    `  ${dim('load it (no unpickling: safetensors holds only tensors; pip install safetensors):')}`,
    '    from safetensors.torch import load_model',
    '    model = ...  # build the model as in training',
    `    load_model(model, ${JSON.stringify(file)})  # restores tied weights`,
    '    model.eval()',
  ];
}
