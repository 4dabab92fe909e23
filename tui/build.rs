//! Facts about this build for `--version` (build-info/).

fn main() {
    gophkeeper_build_info::emit();
}
