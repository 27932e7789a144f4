# Release archives: `cmake --build build --target package` (or `cpack --config build/CPackConfig.cmake`)
# makes build/packages/kubectl-seccomp_v<version>_<os>_<arch>.tar.gz, exactly the name
# krew-manifest.yaml gives for the platform, holding kubectl-seccomp, seccomp-tracer (when built),
# LICENSE and README.md at its top level. See docs/release.md.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(KSC_PACKAGE_ARCH amd64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
  set(KSC_PACKAGE_ARCH arm64)
else()
  string(TOLOWER "${CMAKE_SYSTEM_PROCESSOR}" KSC_PACKAGE_ARCH)
endif()
string(TOLOWER "${CMAKE_SYSTEM_NAME}" KSC_PACKAGE_OS)
set(KSC_PACKAGE_NAME "kubectl-seccomp_v${PROJECT_VERSION}_${KSC_PACKAGE_OS}_${KSC_PACKAGE_ARCH}")

# Only the "release" component goes into the archive, so that install rules added elsewhere (for
# a developer's `cmake --install`) never change what krew downloads.
if(TARGET kubectl-seccomp)
  install(TARGETS kubectl-seccomp RUNTIME DESTINATION . COMPONENT release)
  # Tab completion: kubectl runs kubectl_complete-seccomp from PATH (krew links only the plugin:
  # the krew caveats and README give the one-line symlink).
  install(PROGRAMS ${CMAKE_SOURCE_DIR}/plugin/kubectl_complete-seccomp DESTINATION . COMPONENT release)
endif()
if(TARGET seccomp-tracer)
  install(TARGETS seccomp-tracer RUNTIME DESTINATION . COMPONENT release)
endif()
install(FILES ${CMAKE_SOURCE_DIR}/LICENSE ${CMAKE_SOURCE_DIR}/README.md DESTINATION . COMPONENT release)

set(CPACK_GENERATOR TGZ)
set(CPACK_PACKAGE_NAME kubectl-seccomp)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_ARCHIVE_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL release)
set(CPACK_ARCHIVE_RELEASE_FILE_NAME ${KSC_PACKAGE_NAME})
set(CPACK_COMPONENT_INCLUDE_TOPLEVEL_DIRECTORY OFF)
set(CPACK_INCLUDE_TOPLEVEL_DIRECTORY OFF)
set(CPACK_STRIP_FILES ON)
include(CPack)
