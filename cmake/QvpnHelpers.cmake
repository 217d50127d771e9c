# Helpers shared by every subsystem's CMakeLists.txt.
#
# Build-tree layout mirrors the install layout, so integration tests run the
# executables straight from the build tree:
#   <build>/bin/             one executable per CL command
#   <build>/libexec/qvpn/    the daemons (QTOVMAN, QTOKVPNIK2, ...)
set(QVPN_BUILD_BINDIR ${CMAKE_BINARY_DIR}/bin)
set(QVPN_BUILD_LIBEXECDIR ${CMAKE_BINARY_DIR}/libexec/qvpn)
file(MAKE_DIRECTORY ${QVPN_BUILD_BINDIR} ${QVPN_BUILD_LIBEXECDIR})

define_property(GLOBAL PROPERTY QVPN_COMMANDS
  BRIEF_DOCS "CL command executables" FULL_DOCS "Every target made by qvpn_command().")

# qvpn_command(NAME SOURCES src... [LIBS lib...])
# One executable per CL command, named exactly as the command (STRVPNCNN).
function(qvpn_command name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE qvpn_cl ${A_LIBS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${QVPN_BUILD_BINDIR})
  install(TARGETS ${name} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  set_property(GLOBAL APPEND PROPERTY QVPN_COMMANDS ${name})
endfunction()

# qvpn_daemon(NAME SOURCES src... [LIBS lib...])
function(qvpn_daemon name)
  cmake_parse_arguments(A "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_LIBS})
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${QVPN_BUILD_LIBEXECDIR})
  install(TARGETS ${name} RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/qvpn)
endfunction()

# qvpn_test(NAME SOURCES src... [LIBS lib...] [LABELS label...] [ROOT])
# A Boost.Test executable registered with ctest. ROOT marks tests that need
# root and network namespaces (label "root"); they skip without root, but
# fail under CI=true (see tests/README.md).
function(qvpn_test name)
  cmake_parse_arguments(A "ROOT" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_LIBS} Boost::unit_test_framework)
  target_compile_definitions(${name} PRIVATE BOOST_TEST_DYN_LINK)
  set(labels unit)
  if(A_ROOT)
    set(labels root)
  endif()
  if(A_LABELS)
    list(APPEND labels ${A_LABELS})
  endif()
  add_test(NAME ${name} COMMAND ${name} --log_level=test_suite --report_level=short)
  set(timeout 120)
  if(A_TIMEOUT)
    set(timeout ${A_TIMEOUT})
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT ${timeout}
    ENVIRONMENT "QVPN_BUILD_DIR=${CMAKE_BINARY_DIR};QVPN_SOURCE_DIR=${CMAKE_SOURCE_DIR};PATH=${QVPN_BUILD_BINDIR}:$ENV{PATH}")
endfunction()

# qvpn_script_test(NAME SCRIPT path [LABELS ...] [TIMEOUT s])
# A shell integration test (namespaces, peers, the VM). Exit 0 = pass,
# 77 = skipped (ctest SKIP_RETURN_CODE), anything else = fail.
function(qvpn_script_test name)
  cmake_parse_arguments(A "" "SCRIPT;TIMEOUT" "LABELS" ${ARGN})
  add_test(NAME ${name} COMMAND bash ${A_SCRIPT})
  set(labels root)
  if(A_LABELS)
    list(APPEND labels ${A_LABELS})
  endif()
  set(timeout 300)
  if(A_TIMEOUT)
    set(timeout ${A_TIMEOUT})
  endif()
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" TIMEOUT ${timeout}
    SKIP_RETURN_CODE 77
    ENVIRONMENT "QVPN_BUILD_DIR=${CMAKE_BINARY_DIR};QVPN_SOURCE_DIR=${CMAKE_SOURCE_DIR};PATH=${QVPN_BUILD_BINDIR}:$ENV{PATH}")
endfunction()

# qvpn_fuzz(NAME SOURCES src... LIBS lib... CORPUS dir)
# The source defines LLVMFuzzerTestOneInput. With QVPN_FUZZ=ON (clang) it is a
# libFuzzer binary; otherwise it links a small driver that replays every file
# of CORPUS, registered as a unit test, so the target always compiles and its
# seeds always run.
function(qvpn_fuzz name)
  cmake_parse_arguments(A "" "CORPUS" "SOURCES;LIBS" ${ARGN})
  if(QVPN_FUZZ)
    add_executable(${name} ${A_SOURCES})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE ${A_LIBS})
    set_property(GLOBAL APPEND PROPERTY QVPN_FUZZERS ${name})
  else()
    add_executable(${name} ${A_SOURCES} ${CMAKE_SOURCE_DIR}/tests/fuzz/replay_main.cpp)
    target_link_libraries(${name} PRIVATE ${A_LIBS})
    add_test(NAME ${name}_replay COMMAND ${name} ${A_CORPUS})
    set_tests_properties(${name}_replay PROPERTIES LABELS "unit;fuzz")
  endif()
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/fuzz)
  if(A_CORPUS)
    set_property(GLOBAL APPEND PROPERTY QVPN_FUZZ_CORPORA "${name}=${A_CORPUS}")
  endif()
endfunction()
