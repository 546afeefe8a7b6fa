pub mod steady;
