# The release plugin: kubectl-seccomp as one static binary that runs on any Linux (no dynamic
# section; glibc, libstdc++, fmt, yaml-cpp, libseccomp, OpenSSL, zlib, c-ares and libcurl inside).
# Included by CMakeLists.txt when KSC_STATIC_PLUGIN names the prefix of a static libcurl (HTTP and
# HTTPS, OpenSSL, zlib, c-ares) that tools/build-release builds from Debian's curl source. It
# defines the targets the plugin links (fmt::fmt, yaml-cpp, CURL::libcurl) in their static forms;
# the developer build finds Debian's shared ones instead.
if(NOT EXISTS "${KSC_STATIC_PLUGIN}/include/curl/curl.h")
  message(FATAL_ERROR "KSC_STATIC_PLUGIN=${KSC_STATIC_PLUGIN} is not a static libcurl prefix "
                      "(no include/curl/curl.h): make one with tools/build-release")
endif()
# Every library found from here on (libseccomp through pkg-config too) is the static one.
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
add_link_options(-static)

# fmt: Debian has no libfmt.a, so the header-only form.
find_path(KSC_FMT_INCLUDE_DIR fmt/core.h REQUIRED)
add_library(fmt::fmt INTERFACE IMPORTED)
set_target_properties(fmt::fmt PROPERTIES INTERFACE_COMPILE_DEFINITIONS FMT_HEADER_ONLY=1
                                          INTERFACE_INCLUDE_DIRECTORIES ${KSC_FMT_INCLUDE_DIR})

find_library(KSC_YAML_CPP_LIBRARY yaml-cpp REQUIRED)
find_path(KSC_YAML_CPP_INCLUDE_DIR yaml-cpp/yaml.h REQUIRED)
add_library(yaml-cpp STATIC IMPORTED)
set_target_properties(yaml-cpp PROPERTIES IMPORTED_LOCATION ${KSC_YAML_CPP_LIBRARY}
                                          INTERFACE_INCLUDE_DIRECTORIES ${KSC_YAML_CPP_INCLUDE_DIR})

set(OPENSSL_USE_STATIC_LIBS TRUE)
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Threads REQUIRED)
find_library(KSC_CARES_LIBRARY cares REQUIRED)
find_library(KSC_STATIC_CURL_LIBRARY curl PATHS ${KSC_STATIC_PLUGIN}/lib ${KSC_STATIC_PLUGIN}/lib64
             NO_DEFAULT_PATH NO_CMAKE_FIND_ROOT_PATH REQUIRED)
add_library(CURL::libcurl STATIC IMPORTED)
set_target_properties(CURL::libcurl PROPERTIES
  IMPORTED_LOCATION ${KSC_STATIC_CURL_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${KSC_STATIC_PLUGIN}/include
  INTERFACE_COMPILE_DEFINITIONS CURL_STATICLIB
  INTERFACE_LINK_LIBRARIES "OpenSSL::SSL;OpenSSL::Crypto;${KSC_CARES_LIBRARY};ZLIB::ZLIB;Threads::Threads")
message(STATUS "Static plugin: libcurl ${KSC_STATIC_CURL_LIBRARY}, OpenSSL ${OPENSSL_SSL_LIBRARY}, "
               "c-ares ${KSC_CARES_LIBRARY}, yaml-cpp ${KSC_YAML_CPP_LIBRARY}")
