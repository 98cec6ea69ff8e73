/** Which `--config` files are the Rust flusso's: apart from the reader, so recognising one loads no YAML or TOML parser. */
import * as path from "node:path"

export const isRustConfig = (file: string): boolean => path.extname(file) === ".toml"
