import { isMainThread } from 'node:worker_threads';

/**
 * Preloaded (`node --require`) into a process the bench measures: prints its peak resident set size on exit, so
 * the figure is the process's own (`process.resourceUsage().maxRSS`, in kilobytes). The preload also runs in the
 * process's worker threads; only the main thread reports, when the whole process ends.
 */
if (isMainThread) {
  process.on('exit', () => {
    process.stderr.write(`\npeak-rss-kb ${process.resourceUsage().maxRSS}\n`);
  });
}
