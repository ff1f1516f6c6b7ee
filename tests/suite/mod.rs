mod errors;
mod formats;
mod oracle;
mod sample;
mod uci;
mod util;
