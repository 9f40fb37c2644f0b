/**
 * Preloaded (`node --require`) into a process the bench measures: prints its peak resident set size on exit, so
 * the figure is the process's own (`process.resourceUsage().maxRSS`, in kilobytes).
 */
process.on('exit', () => {
  process.stderr.write(`\npeak-rss-kb ${process.resourceUsage().maxRSS}\n`);
});
