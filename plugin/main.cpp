#include "cli.h"

int main(int argc, char** argv) {
    return ksc::cli::main(argc, argv);
}
