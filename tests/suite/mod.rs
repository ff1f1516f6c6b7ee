mod catalogue;
mod errors;
mod formats;
mod oracle;
mod sample;
mod sla;
mod uci;
mod util;
