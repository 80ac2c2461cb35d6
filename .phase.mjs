const rss = () => (process.memoryUsage().rss/1048576).toFixed(1);
console.log('start', rss());
const {loadBundle} = await import('./dist/cli/common/compile-cache.js');
console.log('compile-cache imported', rss());
process.argv = [process.argv[0], '/work/wt/perf/bin/run.js', 'broker', 'start'];
const m = loadBundle(new URL('./dist/bundle/midge.cjs', import.meta.url), ['broker','start']);
console.log('bundle loaded', rss(), JSON.stringify(process.memoryUsage()));
globalThis.gc?.();
console.log('after gc', rss(), JSON.stringify(process.memoryUsage()));
