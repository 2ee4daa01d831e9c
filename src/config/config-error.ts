/** One clear line naming the setting, its value and what is expected. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Stop start-up on a bad setting of the environment or `CONFIG_FILE`. */
export function failSetting(setting: string, problem: string): never {
  throw new ConfigError(`${setting}: ${problem}`);
}
