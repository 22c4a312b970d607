// Vite's client types for the live pages: `import code from './raster.wgsl?raw'` is a string.
/// <reference types="vite/client" />
