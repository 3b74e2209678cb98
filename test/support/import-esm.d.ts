/** `import()` of an ES-module-only package from a Jest test (see import-esm.js). */
export function importEsm<T = any>(specifier: string): Promise<T>;
