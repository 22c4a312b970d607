// wgsl_reflect's `main` is CommonJS; we import its ES module file, which has the package's types.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
