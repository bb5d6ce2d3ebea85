//! The `kanon` command line.

fn main() {
    println!("kanon");
}
