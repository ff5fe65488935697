/** This package's version, reported as the instrumentation scope version. @internal */
export const VERSION = '0.1.0';
