# frozen_string_literal: true

# Linear build time on Jekyll 4.3.0 and 4.3.1.
#
# Those releases dedupe the files to write with `Array#include?` over a list
# (`Site#each_site_file`), and `Array#include?` compares documents with
# `Document#<=>`: WRITE and CLEANUP walk that list once per file, so a build is
# quadratic in posts (80 s instead of 16 s at 5,000 posts).  Jekyll 4.3.2 fixed
# it upstream (jekyll/jekyll#9187).  This file replaces the list with an
# identity hash on exactly the affected releases and does nothing on any other
# (nor under --safe, which loads no plugin).  Every item is still yielded once,
# in the same order, so the built site is byte for byte the same.
if %w(4.3.0 4.3.1).include?(Jekyll::VERSION)
  module Jekyll
    class Site
      def each_site_file
        seen = {}.compare_by_identity
        %w(pages static_files_to_write docs_to_write).each do |type|
          send(type).each do |item|
            next if seen.key?(item)

            seen[item] = true
            yield item
          end
        end
      end
    end
  end
end
