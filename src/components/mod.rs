//! Views: they render state and emit the person's intents. No negotiation happens here.

pub mod call;
pub mod chat;
pub mod controls;
pub mod files;
pub mod home;
pub mod lobby;
pub mod people;
pub mod quality;
pub mod room_page;
pub mod stage;
pub mod tile;
