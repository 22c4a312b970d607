// The engine's version (package.json's; a test keeps them equal), recorded in every config.json.
export const engineVersion = '0.1.0';
