fn main() {
    meshcall::app::mount();
}
