// Jest's swc transform turns `import()` in .ts files into `require()`, which cannot load an
// ES module; this file is not transformed, so its `import()` reaches Jest's ESM loader
// (enabled by --experimental-vm-modules).
module.exports = { importEsm: (specifier) => import(specifier) };
