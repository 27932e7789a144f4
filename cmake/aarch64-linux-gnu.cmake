# Cross-compiling for arm64 with Debian's g++-aarch64-linux-gnu (tools/build-release --arch arm64):
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DKSC_BUILD_PLUGIN=OFF
# The tracer needs nothing but libstdc++ and glibc, which the cross compiler brings
# (/usr/aarch64-linux-gnu). The plugin's libraries come from a private sysroot, the environment's
# KSC_ARM64_SYSROOT: Debian's arm64 -dev packages unpacked there (tools/build-release makes it;
# installing them system-wide would replace the amd64 ones).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
if(DEFINED ENV{KSC_ARM64_SYSROOT})
  set(_ksc_sysroot $ENV{KSC_ARM64_SYSROOT})
  list(APPEND CMAKE_FIND_ROOT_PATH ${_ksc_sysroot})
  # Only -dev packages' headers are there (no libc): safe on the include path. The multiarch
  # directory holds OpenSSL's configuration headers.
  set(_ksc_flags "-isystem ${_ksc_sysroot}/usr/include/aarch64-linux-gnu -isystem ${_ksc_sysroot}/usr/include")
  set(CMAKE_C_FLAGS_INIT "${_ksc_flags}")
  set(CMAKE_CXX_FLAGS_INIT "${_ksc_flags}")
  set(ENV{PKG_CONFIG_LIBDIR} ${_ksc_sysroot}/usr/lib/aarch64-linux-gnu/pkgconfig:${_ksc_sysroot}/usr/share/pkgconfig)
  set(ENV{PKG_CONFIG_SYSROOT_DIR} ${_ksc_sysroot})
endif()
# Configure checks that run a program (curl's) run it under qemu, with the cross glibc.
find_program(_ksc_qemu qemu-aarch64-static)
if(_ksc_qemu)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${_ksc_qemu} -L /usr/aarch64-linux-gnu)
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# ksc_proto uses RapidJSON, header-only and the same for every architecture; but Debian's
# RapidJSONConfig.cmake names /usr/include, and putting the host's /usr/include on the cross
# compiler's path would mix amd64 glibc headers in. So: a directory holding only rapidjson/.
set(_ksc_host_headers ${CMAKE_BINARY_DIR}/cross-host-headers)
if(NOT EXISTS ${_ksc_host_headers}/include/rapidjson)
  file(MAKE_DIRECTORY ${_ksc_host_headers}/include)
  file(CREATE_LINK /usr/include/rapidjson ${_ksc_host_headers}/include/rapidjson SYMBOLIC)
  file(WRITE ${_ksc_host_headers}/RapidJSONConfig.cmake
       "set(RAPIDJSON_INCLUDE_DIRS \"${_ksc_host_headers}/include\")\n")
endif()
set(RapidJSON_DIR ${_ksc_host_headers} CACHE PATH "RapidJSON's headers alone, for the cross build")
