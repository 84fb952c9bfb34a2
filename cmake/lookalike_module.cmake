# Shared compile settings for every Lookalike target.
function(lookalike_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wno-missing-field-initializers)
  if(LOOKALIKE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(LOOKALIKE_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
                                             -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# lookalike_module(NAME DEPS...) builds src/<NAME>/**.cpp into the library lookalike_<NAME>.
# Sources are globbed so that a new class is one new .h/.cpp pair and nothing else.
function(lookalike_module name)
  cmake_parse_arguments(ARG "" "" "PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(NOT sources)  # a module being started: an empty translation unit keeps the target valid
    set(sources ${CMAKE_CURRENT_BINARY_DIR}/empty_module.cpp)
    file(WRITE ${sources} "")
  endif()
  add_library(lookalike_${name} STATIC ${sources})
  add_library(lookalike::${name} ALIAS lookalike_${name})
  target_include_directories(lookalike_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(lookalike_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  lookalike_target_options(lookalike_${name})
endfunction()
